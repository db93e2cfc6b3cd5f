import NIOCore
import NIOHTTP1
import NIOPosix
public import NIOSSL

/// An HTTP reply as the CLI and the tests see it.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    /// A header's value (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no reply at all.
public struct AdminClientError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// A small HTTP/1.1 client for the admin API: one connection per request, on SwiftNIO's HTTP codec, over TLS when
/// the listener serves HTTPS.
///
/// Written on NIOHTTP1 rather than AsyncHTTPClient: a request a command makes needs no pool, redirects or proxies.
public struct AdminHTTPClient: Sendable {
    public var host: String
    public var port: Int
    public var token: String?
    /// Largest reply body read (exports can be large).
    public var maxBodyBytes = 512 << 20
    /// HTTPS with this client context (its trust roots); nil: plain HTTP.
    public var tls: NIOSSLContext?

    public init(host: String, port: Int, token: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// Sends one request and reads the whole reply.
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil,
                     contentType: String = "application/json", headers extra: [(String, String)] = []) async throws
        -> HTTPReply
    {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        let (tls, host) = (tls, host)
        // SNI and the name checked are the host's name; an address is checked against the certificate's IP entries.
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AdminClientError(description: "cannot reach the Tollgate API at \(host):\(port) (\(error)); is `tollgate serve` running?")
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        if let token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        if let body {
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            head.headers.add(name: "Content-Length", value: "0")
        }
        let limit = maxBodyBytes
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var reply = HTTPReply(status: 0, headers: [], body: [])
            for try await part in inbound {
                switch part {
                case .head(let response):
                    reply.status = Int(response.status.code)
                    reply.headers = response.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    guard reply.body.count + buffer.readableBytes <= limit else {
                        throw AdminClientError(description: "reply over \(limit) bytes")
                    }
                    reply.body += buffer.readableBytesView
                case .end:
                    return reply
                }
            }
            throw AdminClientError(description: "the server closed the connection before replying")
        }
    }
}
