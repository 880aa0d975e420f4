"""Seeded random labelled graphs as NetworkX writes them, with NetworkX's own answers.

`networkx_graphs.py SEED`: undirected graphs with node labels; prints
{"pairs": [{"g1", "g2", "ged", "sameWlHash"}], "listings": [...]} (test/undirected.test.ts).
`networkx_graphs.py SEED edge-labels`: directed and undirected graphs whose edges carry a
"label" (a bond order 1-3); prints {"pairs": [...]} with GED pricing a changed edge label as a
deletion plus an insertion, as grapheme does (test/edgeLabels.test.ts).
Run with /usr/bin/python3 (Debian's python3-networkx).
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


def random_bonded(n, directed):
    g = nx.DiGraph() if directed else nx.Graph()
    for i in range(n):
        g.add_node(i, label=rng.choice("CNO"))
    for i in range(n):
        for j in range(n) if directed else range(i + 1, n):
            if i != j and rng.random() < 0.35:
                g.add_edge(i, j, label=rng.choice([1, 2, 3]))
    return g


if len(sys.argv) > 2 and sys.argv[2] == "edge-labels":
    pairs = []
    for directed in [False, True]:
        for n1, n2 in [(3, 4), (4, 4), (4, 5), (5, 5), (5, 6)]:
            g1, g2 = random_bonded(n1, directed), random_bonded(n2, directed)
            ged = nx.graph_edit_distance(
                g1, g2,
                node_match=lambda a, b: a["label"] == b["label"],
                edge_subst_cost=lambda a, b: 0 if a["label"] == b["label"] else 2,
            )
            same = nx.weisfeiler_lehman_graph_hash(g1, node_attr="label", edge_attr="label") == nx.weisfeiler_lehman_graph_hash(g2, node_attr="label", edge_attr="label")
            pairs.append({"g1": data(g1), "g2": data(g2), "ged": ged, "sameWlHash": same, "directed": directed})
    print(json.dumps({"pairs": pairs}))
    sys.exit(0)

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
