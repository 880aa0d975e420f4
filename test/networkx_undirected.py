"""Seeded random undirected labelled graphs as NetworkX writes them, with NetworkX's own answers.

Prints one JSON object: {"pairs": [{"g1", "g2", "ged", "sameWlHash"}], "listings": [...]}.
Run by test/undirected.test.ts with /usr/bin/python3 (Debian's python3-networkx).
"""
import json
import random
import sys

import networkx as nx

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 7)


def random_graph(n):
    g = nx.Graph()
    for i in range(n):
        g.add_node(i, label=rng.choice("CNO"))
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.4:
                g.add_edge(i, j)
    return g


def data(g):
    d = nx.node_link_data(g)
    # NetworkX 2.8 writes "links"; 3.x can write "edges": grapheme reads both.
    return d


def relisted(g):
    """The same graph with its nodes renamed and each edge written the other way round."""
    perm = list(g.nodes)
    rng.shuffle(perm)
    h = nx.Graph()
    for new, old in enumerate(perm):
        h.add_node(new, label=g.nodes[old]["label"])
    back = {old: new for new, old in enumerate(perm)}
    d = nx.node_link_data(h)
    d["links"] = [{"source": back[v], "target": back[u]} for u, v in g.edges]
    return d


pairs = []
for n1, n2 in [(3, 4), (4, 4), (4, 5), (5, 5), (5, 6), (6, 5), (3, 6), (6, 6)]:
    g1, g2 = random_graph(n1), random_graph(n2)
    ged = nx.graph_edit_distance(g1, g2, node_match=lambda a, b: a["label"] == b["label"])
    same = nx.weisfeiler_lehman_graph_hash(g1, node_attr="label") == nx.weisfeiler_lehman_graph_hash(g2, node_attr="label")
    pairs.append({"g1": data(g1), "g2": data(g2), "ged": ged, "sameWlHash": same})

listings = []
for n in [4, 5, 6, 7]:
    g = random_graph(n)
    listings.append({"graph": data(g), "relisted": relisted(g), "edges": g.number_of_edges()})

print(json.dumps({"pairs": pairs, "listings": listings}))
