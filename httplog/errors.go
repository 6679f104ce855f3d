package httplog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// ErrorKind classifies a failure to get an HTTP answer, so callers branch without reading
// messages. It is the one vocabulary of transport failures: the session log stores it, the flow's
// errors carry it as their code, and the diagnosis rules read it.
type ErrorKind string

const (
	ErrorTimeout           ErrorKind = "timeout"
	ErrorDNS               ErrorKind = "dns"
	ErrorConnectionRefused ErrorKind = "connection-refused"
	ErrorTLS               ErrorKind = "tls"
	ErrorReset             ErrorKind = "reset"
	ErrorCanceled          ErrorKind = "canceled"
	// ErrorIncomplete: the recording ended (the session closed) before the answer was read.
	ErrorIncomplete ErrorKind = "incomplete"
	ErrorOther      ErrorKind = "other"
)

// Classify names the kind of a transport failure.
func Classify(err error) ErrorKind {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return ErrorCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrorTimeout
	case errors.As(err, &dnsErr):
		return ErrorDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unknownAuth),
		errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &alert):
		return ErrorTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrorConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrorReset
	case errors.As(err, &ne) && ne.Timeout():
		return ErrorTimeout
	case errors.Is(err, io.EOF):
		return ErrorReset // the server closed the connection without answering
	case strings.Contains(err.Error(), "tls: "):
		// Some handshake failures reach the client as plain errors from crypto/tls.
		return ErrorTLS
	}
	return ErrorOther
}

// RootCause is the innermost error of err's chain: what a person needs to read.
func RootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
