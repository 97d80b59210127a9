/// The release this source tree builds: one place for the version that `thresher --version`
/// prints and that the coordinator reports as `thresher_build_info{version}`.
///
/// Guarantees: `version` changes only with a release; `wireProtocol` is always the version
/// `FrameHeader` writes, so the two cannot disagree.
public enum ThresherRelease {
    /// The tools' version (semantic versioning; `-dev` until a release is cut).
    public static let version = "0.7.0-dev"

    /// The wire protocol this build writes (docs/protocol.md), as "major.minor".
    public static let wireProtocol = "\(FrameHeader.currentMajorVersion).\(FrameHeader.currentMinorVersion)"

    /// What `thresher --version` prints: both, since a cluster mixes builds by protocol major.
    public static let description = "\(version) (wire protocol \(wireProtocol))"
}
