"""The Spark engine (issue 16): the aggregation stages of training, and batch playlists, on
Apache Spark. Optional: `pip install 'tastemaker[spark]'` brings pyspark and pyarrow, and Spark
needs Java 17+. Nothing on the default path imports this package.

- `session`: Java and pyspark checks, and the one way a SparkSession is made (`--master URL`,
  `SPARK_MASTER`, else `local[*]`);
- `listening`: the listens as Spark reads them, from a tastemaker export
  (`recommender.lake`) or a ListenBrainz listens dump;
- `engine`: the aggregates (`recommender.aggregates.Aggregates`) computed by Spark;
- `train`: `train --engine spark`, which feeds those aggregates to the same model and graph code.
"""
