/// ThresherWorker: runs trial programs as child processes and follows their metrics and checkpoints.
public enum ThresherWorkerModule {}
