/// ThresherStore: the coordinator's durable state (sweeps, trials, metrics, checkpoints, events) in
/// SQLite through GRDB, the content-addressed checkpoint blob store, and the retention policy.
public enum ThresherStoreModule {}
