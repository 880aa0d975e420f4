"""Exact GED with NetworkX's graph_edit_distance for bench/ged.

Reads a JSON list of pairs on stdin: {"g1": {"labels": [...], "edges": [[s, t, type], ...]}, "g2": ...}.
Edges are typed and directed; an edge is (source, target, type), so the edge between an ordered
node pair carries the *set* of its types and substituting one set for another costs the size of
their symmetric difference (a type change = one deletion + one insertion), as in grapheme.
Prints one JSON line per pair: {"ged", "ms"}.
"""
import json
import sys
import time

import networkx as nx


def digraph(g):
    G = nx.DiGraph()
    for i, label in enumerate(g["labels"]):
        G.add_node(i, label=label)
    for s, t, r in g["edges"]:
        if G.has_edge(s, t):
            G[s][t]["types"].add(r)
        else:
            G.add_edge(s, t, types={r})
    return G


def main():
    pairs = json.load(sys.stdin)
    for pair in pairs:
        g1, g2 = digraph(pair["g1"]), digraph(pair["g2"])
        t0 = time.perf_counter()
        ged = nx.graph_edit_distance(
            g1,
            g2,
            node_match=lambda a, b: a["label"] == b["label"],
            edge_subst_cost=lambda a, b: len(a["types"] ^ b["types"]),
            edge_del_cost=lambda a: len(a["types"]),
            edge_ins_cost=lambda a: len(a["types"]),
        )
        ms = (time.perf_counter() - t0) * 1000
        print(json.dumps({"ged": ged, "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
