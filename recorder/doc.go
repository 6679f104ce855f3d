// Package recorder keeps the session log of every HTTP exchange oauthdiag makes, with secrets
// redacted, replays calls, and exports them as HAR and curl command lines.
//
// A Session is an httplog.Recorder: the one capturing transport (httplog.Transport) tells it of
// every call as it starts, and it gives the call its id ("c7"), which the exchange carries back
// to the flow step that made it; when the call completes (its response body read to the end or
// closed, or the transport failed) the session redacts the same exchange and appends it. Browser
// legs the tool only sees (the authorization URL, the redirect) are added with Session.Observe.
//
// # The session log
//
// Each session is one append-only file of lines, "<crc32c> <json>\n", mode 0600 in a 0700
// directory. A completed call goes to the session's writer goroutine, which redacts it, encodes it
// with encoding/json and appends it with one write(2); the caller does not wait for that. A call
// is on disk once its EventFinish is published; Flush waits for every completed call, and Close
// flushes. There is no fsync per call: a process
// killed with SIGKILL loses nothing the kernel already has, and a torn last line (or any line
// whose checksum fails) is skipped on read while everything before it stays readable. Only
// summaries stay in memory; Session.Entry and Session.Each read bodies back from disk, so memory
// does not grow with the bodies of a long session. Named notes (Session.Annotate) keep what a
// command knew with its session, such as a flow's context and diagnoses.
//
// # Redaction
//
// Nothing reaches the log unredacted. A Redactor replaces secrets with
// "[redacted:KIND:sha256:XXXXXXXX:len=N]": the first 8 hex digits of the value's SHA-256
// and its length, so two mentions of one token can be matched without revealing it. It
// finds secrets by parameter name in query strings, fragments and form bodies, by key at
// any depth in JSON, in Authorization (the scheme and a Basic client_id stay visible),
// Cookie and Set-Cookie headers, after "Bearer", in anything shaped like a JWT, and, for
// values it has been given or has learned from token responses and requests, anywhere.
// The log stores which secret a call carried as a fingerprint (Entry.SecretRefs), and a
// replay asks a SecretResolver, such as the token store, for the value.
package recorder
