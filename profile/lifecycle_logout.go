package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauthdiag/oauthdiag/oauthflow"
)

// RevokeResult is the outcome of revoking one token at the provider.
type RevokeResult struct {
	Token string // "access token" or "refresh token"
	// Attempted is false when the revocation was not tried; Skipped says why.
	Attempted bool
	Skipped   string
	Err       error // nil: the provider confirmed the revocation
	// Introspection is the provider's view of the token afterwards, when it was asked.
	Introspection *oauthflow.Introspection
	IntrospectErr error
}

// LogoutResult says what a logout did, token by token.
type LogoutResult struct {
	Profile string
	// Stored is false when the profile had no token (then nothing was revoked).
	Stored      bool
	Corrupt     *CorruptEntryError
	Revocations []RevokeResult
	// Deleted is true when the local copy is gone; Where is where it was.
	Deleted bool
	Where   string
	Steps   []oauthflow.StepReport
}

// RevocationFailed reports whether any token was not confirmed revoked by the provider.
func (r *LogoutResult) RevocationFailed() bool {
	for _, v := range r.Revocations {
		if v.Attempted && v.Err != nil {
			return true
		}
	}
	return false
}

// LogoutOptions steer Logout.
type LogoutOptions struct {
	// SkipRevoke only deletes the local copy (the tokens stay valid at the provider until they expire).
	SkipRevoke bool
	// Verify asks the introspection endpoint (when there is one) whether the access token is now
	// inactive.
	Verify bool
}

// Logout revokes the stored access and refresh tokens at the provider when it has a revocation
// endpoint, then deletes them locally, also when the revocation failed: the user asked for the
// tokens to be gone, and a failed revocation is reported, not a reason to keep them.
func (l *Lifecycle) Logout(ctx context.Context, opts LogoutOptions) (*LogoutResult, error) {
	res := &LogoutResult{Profile: l.Profile, Where: l.Store.Where(l.Profile)}
	unlock, err := l.lock(ctx)
	if err != nil {
		return res, err
	}
	defer unlock()

	st, err := l.Store.Load(l.Profile)
	switch {
	case err == nil:
		res.Stored = true
	case errors.Is(err, ErrNotStored):
		return res, nil
	case errors.As(err, &res.Corrupt):
		// Nothing readable to revoke; the unreadable copy was moved aside and is reported.
		return res, nil
	default:
		return res, fmt.Errorf("reading the stored token (%s): %w", res.Where, err)
	}

	tokens := []struct{ name, value, hint string }{
		{"access token", st.Token.AccessToken, "access_token"},
		{"refresh token", st.Token.RefreshToken, "refresh_token"},
	}
	var prepErr error
	if !opts.SkipRevoke {
		prepErr = l.prepare(ctx)
	}
	endpoint := l.Runner.Config().Provider.Endpoints.Revocation
	for _, tk := range tokens {
		rr := RevokeResult{Token: tk.name}
		switch {
		case tk.value == "":
			rr.Skipped = "none was issued"
		case opts.SkipRevoke:
			rr.Skipped = "revocation was not requested"
		case prepErr != nil:
			rr.Skipped = fmt.Sprintf("the provider's configuration could not be read (%v)", prepErr)
		case endpoint == "":
			rr.Skipped = "the provider has no revocation endpoint known to oauthdiag (set revoke_url or --revoke-url)"
		default:
			rr.Attempted = true
			step := l.Runner.Report(ctx, oauthflow.StepRevoke, func(ctx context.Context) error { return l.Runner.Revoke(ctx, tk.value, tk.hint) })
			rr.Err = step.Err
			res.Steps = append(res.Steps, step)
		}
		res.Revocations = append(res.Revocations, rr)
	}
	if opts.Verify && prepErr == nil && l.Runner.Config().Provider.Endpoints.Introspection != "" && res.Revocations[0].Attempted {
		var in *oauthflow.Introspection
		step := l.Runner.Report(ctx, oauthflow.StepIntrospectAfter, func(ctx context.Context) (err error) {
			in, err = l.Runner.IntrospectAs(ctx, oauthflow.StepIntrospectAfter, st.Token.AccessToken, "access_token")
			return err
		})
		res.Revocations[0].Introspection, res.Revocations[0].IntrospectErr = in, step.Err
		res.Steps = append(res.Steps, step)
	}

	if err := l.Store.Delete(l.Profile); err != nil && !errors.Is(err, ErrNotStored) {
		return res, fmt.Errorf("deleting the local token (%s): %w", res.Where, err)
	}
	res.Deleted = true
	return res, nil
}
