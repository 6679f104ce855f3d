// oidc-provider (panva) configured as a loopback-only OpenID Provider for oauthdiag's tests and
// manual tries. start.sh runs this file from the install prefix, where node_modules lives.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT || 9101);
const ISSUER = `http://${HOST}:${PORT}`;
// Comma-separated list; every client gets all of them.
const REDIRECTS = (process.env.OAUTHDIAG_PEER_REDIRECT_URIS || 'http://127.0.0.1:8765/callback')
  .split(',').map((s) => s.trim()).filter(Boolean);

// devInteractions' login form accepts any login name and ignores the password;
// accounts listed here just give userinfo and the ID token some claims.
const accounts = {
  alice: { email: 'alice@example.test', email_verified: true, name: 'Alice Example' },
};

// A fresh signing key per start: the server keeps no state across restarts.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'peer-rs256' };

const confidential = {
  redirect_uris: REDIRECTS,
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  response_types: ['code'],
  scope: 'openid offline_access profile email api:read',
};

const configuration = {
  clients: [
    { ...confidential, client_id: 'diag-client', client_secret: 'diag-secret', token_endpoint_auth_method: 'client_secret_basic' },
    { ...confidential, client_id: 'diag-client-post', client_secret: 'diag-secret-post', token_endpoint_auth_method: 'client_secret_post' },
    {
      // Public native client: PKCE is mandatory, and as a native client (RFC 8252 section 7.3)
      // its loopback redirect URIs match on any port.
      client_id: 'diag-public',
      application_type: 'native',
      redirect_uris: REDIRECTS,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['oauthdiag-peer-cookie-key-not-secret'] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api:read'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: {
    devInteractions: { enabled: true }, // built-in HTML login and consent forms
    introspection: { enabled: true },   // RFC 7662: /token/introspection
    revocation: { enabled: true },      // RFC 7009: /token/revocation
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
    deviceFlow: { enabled: true },
  },
  // Issue a refresh token whenever the client may use the grant: the library's default also
  // requires scope offline_access, which it only keeps with prompt=consent.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  async findAccount(ctx, id) {
    const claims = accounts[id] || { name: id };
    return { accountId: id, async claims() { return { ...claims, sub: id }; } };
  },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const server = provider.listen(PORT, HOST, () => {
  console.log(`issuer ${ISSUER}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
