/// ThresherCoordinator: serves the wire conversation, runs searchers and stopping policies, leases
/// trials to workers, and decides which checkpoints cross the network.
public enum ThresherCoordinatorModule {}
