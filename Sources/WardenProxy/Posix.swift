#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A failed system call, with the call's name and errno.
public struct SystemError: Error, Sendable, CustomStringConvertible {
  public let call: String
  public let code: Int32

  public init(_ call: String, code: Int32 = errno) {
    self.call = call
    self.code = code
  }

  public var description: String { "\(call): \(Self.message(for: code))" }

  static func message(for code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
  }
}

/// A pipe whose ends are closed on exec, so only the descriptors dup'ed into a child leak into it.
struct Pipe {
  let readEnd: Int32
  let writeEnd: Int32

  init() throws(SystemError) {
    var fds: [Int32] = [-1, -1]
    // pipe2 is not exported to Swift; pipes are made before any child is spawned, so no race.
    guard pipe(&fds) == 0 else { throw SystemError("pipe") }
    readEnd = fds[0]
    writeEnd = fds[1]
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
  }

  /// Asks for a larger kernel buffer, so big messages cross in fewer wakeups. Best effort.
  func enlarge(to bytes: Int32) {
    _ = fcntl(writeEnd, 1031 /* F_SETPIPE_SZ */, bytes)
  }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Starts a detached POSIX thread running `body`. Threads, not tasks: each pump blocks in read(2).
func startThread(_ body: @escaping @Sendable () -> Void) {
  final class Box: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  let box = Unmanaged.passRetained(Box(body)).toOpaque()
  var thread = pthread_t()
  let result = pthread_create(
    &thread, nil,
    { raw in
      let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
      box.body()
      return nil
    }, box)
  precondition(result == 0, "pthread_create failed: \(SystemError.message(for: result))")
  pthread_detach(thread)
}
