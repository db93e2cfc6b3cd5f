#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A listener that could not bind its address. `serve` ends with this one line (ArgumentParser prints it after
/// "Error:") and exit status 1, before it logs "serving".
struct ListenerFailure: Error, CustomStringConvertible {
    /// `HOST:PORT` as configured.
    let address: String
    let underlying: any Error

    var description: String {
        guard let io = underlying as? IOError else { return "\(address): cannot listen: \(underlying)" }
        switch io.errnoCode {
        case EADDRINUSE: return "\(address): address already in use"
        case EACCES: return "\(address): permission denied (a port below 1024 needs privileges)"
        case EADDRNOTAVAIL: return "\(address): not an address of this host"
        default: return "\(address): cannot listen: \(String(cString: strerror(io.errnoCode)).lowercased())"
        }
    }
}
