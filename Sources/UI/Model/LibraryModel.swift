/// The interface's own view of the library: small value types that the views draw and tests build
/// by hand. The adapter over Catalog and Grouping (LibraryService) fills them in.

/// An RGB8 picture, interleaved, row-major (the same layout as Imaging.RGBImage).
public struct Thumbnail: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) { self.width = width; self.height = height; self.pixels = pixels }
}

public struct ClassScore: Sendable, Equatable {
    public var label: String
    public var probability: Float
    public init(label: String, probability: Float) { self.label = label; self.probability = probability }
}

/// One image. `id` is its index in `AppState.images`.
public struct ImageInfo: Sendable, Equatable {
    public var id: Int
    public var path: String
    public var fileSize: Int
    public var width: Int
    public var height: Int
    public var format: String
    public var captureDate: String?
    public var camera: String?
    public var exifFieldCount: Int
    public var topClasses: [ClassScore]
    public var thumbnail: Thumbnail?

    public init(id: Int, path: String, fileSize: Int, width: Int, height: Int, format: String,
                captureDate: String? = nil, camera: String? = nil, exifFieldCount: Int = 0,
                topClasses: [ClassScore] = [], thumbnail: Thumbnail? = nil) {
        self.id = id; self.path = path; self.fileSize = fileSize; self.width = width; self.height = height
        self.format = format; self.captureDate = captureDate; self.camera = camera
        self.exifFieldCount = exifFieldCount; self.topClasses = topClasses; self.thumbnail = thumbnail
    }

    public var fileName: String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

public struct ImageCluster: Sendable, Equatable {
    public var id: Int
    public var label: String
    public var members: [Int]
    public var medoid: Int
    public init(id: Int, label: String, members: [Int], medoid: Int) {
        self.id = id; self.label = label; self.members = members; self.medoid = medoid
    }
}

public struct Clustering: Sendable, Equatable {
    public var k: Int
    public var automatic: Bool
    public var clusters: [ImageCluster]
    public init(k: Int, automatic: Bool, clusters: [ImageCluster]) { self.k = k; self.automatic = automatic; self.clusters = clusters }
}

public enum DuplicateVerdict: String, Sendable, Equatable, CaseIterable {
    case identical
    case nearDuplicate = "near-duplicate"
    case similar

    /// Lower is a stronger claim of sameness.
    var strength: Int { switch self { case .identical: return 0; case .nearDuplicate: return 1; case .similar: return 2 } }
}

public struct DuplicateMember: Sendable, Equatable {
    public var id: Int
    public var verdict: DuplicateVerdict
    public var similarity: Float
    public init(id: Int, verdict: DuplicateVerdict, similarity: Float) { self.id = id; self.verdict = verdict; self.similarity = similarity }
}

/// A group of near-duplicates with the suggested keeper (`keep`, also among `members`).
public struct DuplicateSet: Sendable, Equatable {
    public var keep: Int
    public var reason: String
    public var members: [DuplicateMember]
    public init(keep: Int, reason: String, members: [DuplicateMember]) { self.keep = keep; self.reason = reason; self.members = members }
}

public struct SimilarImage: Sendable, Equatable {
    public var id: Int
    public var similarity: Float
    public init(id: Int, similarity: Float) { self.id = id; self.similarity = similarity }
}

public enum ImageFlag: String, Sendable, Equatable {
    case keep, reject
}

public struct ScanProgressInfo: Sendable, Equatable {
    public var done: Int
    public var total: Int
    /// Images per second.
    public var rate: Double
    public var eta: Double?
    public var phase: String
    public init(done: Int, total: Int, rate: Double, eta: Double?, phase: String) {
        self.done = done; self.total = total; self.rate = rate; self.eta = eta; self.phase = phase
    }
}

public struct ScanFailure: Sendable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// What a finished scan hands over: the images (ids are indices) and their persisted decisions.
public struct ScanOutcome: Sendable, Equatable {
    public var images: [ImageInfo]
    public var failures: [ScanFailure]
    public var flags: [Int: ImageFlag]
    public init(images: [ImageInfo], failures: [ScanFailure] = [], flags: [Int: ImageFlag] = [:]) {
        self.images = images; self.failures = failures; self.flags = flags
    }
}

public enum ExportFormat: String, Sendable, Equatable, CaseIterable {
    case csv, json, txt, links
    public var defaultName: String { self == .links ? "corral-groups" : "corral-groups.\(rawValue)" }
}

/// The result of moving files to the Trash or a folder.
public struct FileActionOutcome: Sendable, Equatable {
    public var moved: [Int]
    public var failed: [ScanFailure]
    /// "the Trash" or the destination folder.
    public var destination: String
    public init(moved: [Int], failed: [ScanFailure] = [], destination: String) {
        self.moved = moved; self.failed = failed; self.destination = destination
    }
}

public struct UndoOutcome: Sendable, Equatable {
    public var restored: [Int]
    public var description: String
    public init(restored: [Int], description: String) { self.restored = restored; self.description = description }
}
