// Package recorder records every HTTP exchange oauthdiag makes, keeps a durable session
// log of them with secrets redacted, replays calls, and exports them as HAR, curl
// command lines and a support-ticket bundle.
//
// Recording is a transport: Session.Transport wraps an http.RoundTripper, so the code
// making the calls does not know it is recorded. A call is recorded when its response
// body reaches EOF or is closed (streaming is never delayed), or at once when the
// transport fails. The flow step a call belongs to comes from WithStepFunc; browser legs
// the tool only sees (the authorization URL, the redirect) are added with
// Session.Observe.
//
// # The session log
//
// Each session is one append-only file of lines, "<crc32c> <json>\n", mode 0600 in a
// 0700 directory. The caller's goroutine only snapshots a finished call; one writer per
// session redacts, encodes and appends it with a single write(2), so calls that finish
// together share one write. A call is on disk once its EventFinish is published; Flush
// waits for every finished call and Close flushes. There is no fsync per call: a process
// killed with SIGKILL loses nothing the kernel already has, and a torn last line (or any
// line whose checksum fails) is skipped on read while everything before it stays
// readable. Only summaries stay in memory; Session.Entry and Session.Each read bodies back
// from disk, so memory does not grow with the bodies of a long session.
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
