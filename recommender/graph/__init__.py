"""The artist graph: co-listening neighbours, scenes, look-alikes and bridges (networkx).

- `records`: settings, query results and the stored data (`GraphData`);
- `build`: co-listening edges from interactions and reason tags, calling the next two;
- `scenes`: Louvain communities, named by their defining tags;
- `lookalikes`: tag-alike artists and scenes whose audiences do not meet (never edges);
- `bridges`: the strongest co-listening paths from a listener's artists to new ones;
- `io`: save and load without pickle;
- `artist_graph`: `ArtistGraph`, the queries (similar, scene_of, is_lookalike, bridge, ...).
"""

from recommender.graph.artist_graph import ArtistGraph
from recommender.graph.bridges import BridgeIndex
from recommender.graph.io import GRAPH_FORMAT
from recommender.graph.records import Bridge, GraphData, GraphParams, Neighbour, Scene

__all__ = [
    "GRAPH_FORMAT",
    "ArtistGraph",
    "Bridge",
    "BridgeIndex",
    "GraphData",
    "GraphParams",
    "Neighbour",
    "Scene",
]
