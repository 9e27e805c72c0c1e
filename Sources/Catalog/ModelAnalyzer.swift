import Foundation
import Imaging
import Models
import Grouping

/// The real analyzer: Imaging decodes on the workers, Models.Embedder runs the batches.
final class ModelAnalyzer: ImageAnalyzer {
    let embedder: Embedder
    let stage: DecodeStage
    var modelName: String { embedder.name }
    var inputElements: Int { embedder.inputSize * embedder.inputSize * 3 }
    /// 16 images: four of the embedder's forward chunks, about 0.1 s of work for Lite0 on two cores,
    /// which is also the most a kill -9 can lose.
    let batchSize = 16

    init(model: String, threads: Int) throws {
        embedder = try Embedder(modelName: model, threads: threads)
        stage = DecodeStage.standard(preprocessing: embedder.preprocessing)
    }

    func prepare(data: [UInt8], path: String) throws -> PreparedImage { try stage.prepare(data: data, path: path) }

    func embed(batch: [Float], count: Int) throws -> [(embedding: [Float], probabilities: [Float])] {
        embedder.run(batch: batch, count: count)
    }
}

extension DecodeStage {
    /// What a scan's decode workers run for a model with this preprocessing; `corral bench decode
    /// --stage scan` measures the same object.
    public static func standard(preprocessing: Preprocessing, decodeShortSide: Int? = nil) -> DecodeStage {
        DecodeStage(preprocessing: preprocessing, decodeShortSide: decodeShortSide ?? preprocessing.decodeShortSide,
                    signature: { PixelSignature(rgb: $0.pixels, width: $0.width, height: $0.height).bytes })
    }
}

extension Library {
    static let defaultAnalyzerFactory: AnalyzerFactory = { model, threads in
        try ModelAnalyzer(model: model, threads: threads)
    }
}
