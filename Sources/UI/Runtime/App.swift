import Foundation

/// What the run loop needs from a terminal. TerminalCurses implements it with ncurses; tests use a
/// scripted fake, so the loop itself (effects, background results, quitting) is tested too.
public protocol TerminalDevice: AnyObject {
    var size: TerminalSize { get }
    /// Draws a frame (implementations draw only what changed).
    func draw(_ buffer: ScreenBuffer)
    /// The next key or resize, waiting at most `timeoutMilliseconds`; nil on timeout.
    func nextEvent(timeoutMilliseconds: Int) -> TerminalEvent?
    /// A signal (SIGINT, SIGTERM, SIGHUP) asked the program to stop; the number, or nil.
    var pendingSignal: Int32? { get }
}

public enum TerminalEvent: Equatable, Sendable {
    case key(Key)
    case resize(TerminalSize)
}

/// Messages posted from background work, drained by the loop on the main thread.
final class Inbox: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Message] = []

    func post(_ m: Message) { lock.lock(); messages.append(m); lock.unlock() }

    func drain() -> [Message] {
        lock.lock(); defer { lock.unlock() }
        let out = messages
        messages.removeAll(keepingCapacity: true)
        return out
    }
}

/// Runs the interface: reads events, feeds them and background results to `update`, starts
/// effects on a background serial queue, and draws when something changed.
public final class App {
    public private(set) var state: AppState
    let service: LibraryService
    let inbox = Inbox()
    let work = DispatchQueue(label: "corral.ui.work", qos: .userInitiated)
    let pending = DispatchGroup()

    public init(service: LibraryService, state: AppState) {
        self.service = service
        self.state = state
    }

    /// Runs until the user quits (returns 0) or a signal arrives (returns 128 + signal).
    public func run(on terminal: TerminalDevice, pollMilliseconds: Int = 100) -> Int32 {
        state.size = terminal.size
        start(state.startScan())
        terminal.draw(render(state))
        while !state.shouldQuit {
            if let sig = terminal.pendingSignal { return 128 + sig }
            let event = terminal.nextEvent(timeoutMilliseconds: pollMilliseconds)
            var messages = inbox.drain()
            switch event {
            case .key(let k)?: messages.append(.key(k))
            case .resize(let size)?: messages.append(.resize(size))
            case nil: break
            }
            guard !messages.isEmpty else { continue }
            for m in messages { dispatch(m) }
            terminal.draw(render(state))
        }
        return 0
    }

    /// Feeds one message through update and starts its effects (tests drive the app this way).
    public func dispatch(_ message: Message) {
        let (next, effects) = update(state, message)
        state = next
        start(effects)
    }

    /// Handles everything background work has posted so far.
    public func drainInbox() { for m in inbox.drain() { dispatch(m) } }

    /// Waits until started effects have finished (tests).
    public func waitForEffects() { pending.wait() }

    func start(_ effects: [Effect]) {
        for e in effects {
            pending.enter()
            work.async { [service, inbox, pending] in
                defer { pending.leave() }
                inbox.post(App.perform(e, service: service, inbox: inbox))
            }
        }
    }

    /// One effect against the service; every outcome, including failure, becomes a message.
    static func perform(_ e: Effect, service: LibraryService, inbox: Inbox) -> Message {
        do {
            switch e {
            case .scan:
                do { return .scanFinished(try service.scan { inbox.post(.scanProgress($0)) }) }
                catch { return .scanFailed(describe(error)) }
            case .cluster(let k, let gen):
                do { return .clustersReady(try service.clusters(k: k), generation: gen) }
                catch { return .clusteringFailed(describe(error), generation: gen) }
            case .findDuplicates(let gen):
                do { return .duplicatesReady(try service.duplicateGroups(), generation: gen) }
                catch { return .duplicatesFailed(describe(error), generation: gen) }
            case .similar(let id):
                return .similarReady(id: id, try service.similar(to: id, count: 12))
            case .setFlag(let flag, let ids):
                try service.setFlag(flag, ids: ids)
                return .acknowledged
            case .setNotDuplicates(let ids, let value):
                try service.setNotDuplicates(ids, value)
                return .acknowledged
            case .trash(let ids):
                return .fileActionDone(try service.trash(ids: ids))
            case .move(let ids, let folder):
                return .fileActionDone(try service.move(ids: ids, to: folder))
            case .undoFileAction:
                return .undoDone(try service.undoLastFileAction())
            case .export(let format, let path, let clustering, let dups):
                let written = try service.export(format: format, to: path, clustering: clustering, duplicates: dups)
                return .exported(path: written, format: format)
            }
        } catch {
            return .serviceFailed(describe(error))
        }
    }

    static func describe(_ error: Error) -> String {
        String(describing: error)
    }
}
