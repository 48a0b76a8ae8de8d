// The WAMP connection: sign up (anonymous), log in (ticket, or a device key: cryptosign), stay
// logged in across drops.
// Autobahn|JS is the global `autobahn` (vendor/autobahn.min.js, from npm at set-up time).

import { AUTHMETHOD, DEVICE_REMOVED, ERROR, PROCEDURE, REALM } from "./contract.js";

// The app's own failures, never on the wire: a call cut off by a drop, a server not reached.
export const OFFLINE = "app.offline";
export const UNREACHABLE = "app.unreachable";

const URL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
// After a drop, try again soon: a restarted node is back within seconds.
const RECONNECT = { initial_retry_delay: 0.5, max_retry_delay: 3, retry_delay_growth: 1.5, max_retries: -1 };

// Calls in flight: Autobahn|JS leaves them pending forever when the socket drops, so we fail them.
const pending = new Set();

/** session.call with keyword arguments; rejected with {error: OFFLINE} if the connection drops first. */
export function call(session, procedure, kwargs = {}) {
  return new Promise((resolve, reject) => {
    if (!session?.isOpen) {
      reject({ error: OFFLINE });
      return;
    }
    pending.add(reject);
    session.call(procedure, [], kwargs).then(resolve, reject).finally(() => pending.delete(reject));
  });
}

function failPendingCalls() {
  for (const reject of pending) reject({ error: OFFLINE });
  pending.clear();
}

/** Signs a user up on a short anonymous connection; resolves to the user, rejects with the error. */
export function signUp(fields) {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      url: URL, realm: REALM, authmethods: [AUTHMETHOD.ANONYMOUS], use_es6_promises: true, max_retries: 0,
    });
    connection.onopen = (session) => {
      call(session, PROCEDURE.SIGNUP, fields).then(resolve, reject).finally(() => connection.close());
    };
    connection.onclose = (reason) => {
      reject({ error: reason === "unreachable" ? UNREACHABLE : OFFLINE });
      return true;
    };
    connection.open();
  });
}

/** logIn with the password (WAMP-ticket): the password stays in memory for the reconnects. */
export function logIn(username, password, handlers) {
  return connect(username, { authmethods: [AUTHMETHOD.TICKET], onchallenge: () => password }, handlers);
}

/** logIn with a device key (WAMP-cryptosign, device.js): the router's challenge signed here, no password kept. */
export function logInWithKey(username, key, handlers) {
  const cryptosign = autobahn.auth_cryptosign;
  return connect(username, {
    authmethods: [AUTHMETHOD.CRYPTOSIGN],
    authextra: { pubkey: cryptosign.public_key(key) },
    onchallenge: (session, method, extra) => cryptosign.sign_challenge(key, extra),
  }, handlers);
}

/**
 * Logs in (`credentials`: Autobahn|JS's authmethods, authextra, onchallenge) and keeps the session: after a drop it reconnects by itself, for as long
 * as it takes. Handlers:
 *   onOpen(session, details, first)  every (re)join; `first` on the first one
 *   onOffline()                      the connection dropped; reconnecting
 *   onRefused(error)                 the first login failed (wrong password, unreachable); given up
 *   onEnded(error)                   a reconnect was refused (say, the account is locked), or the
 *                                    router ended the session for its device was removed; given up
 * Returns {logOut()}.
 */
function connect(username, credentials, { onOpen, onOffline, onRefused, onEnded }) {
  let joined = false;
  let loggingOut = false;
  let retryTimer = null;
  const connection = new autobahn.Connection({
    url: URL,
    realm: REALM,
    authid: username,
    ...credentials,
    use_es6_promises: true,
    ...RECONNECT,
  });

  connection.onopen = (session, details) => {
    if (loggingOut) {
      // Autobahn|JS's close() does not stop a reconnect it has already scheduled.
      connection.close();
      return;
    }
    const first = !joined;
    joined = true;
    onOpen(session, details, first);
  };

  connection.onclose = (reason, details) => {
    failPendingCalls();
    if (loggingOut) return true;
    const refusal = details.reason;  // the router's ABORT/GOODBYE reason, if it sent one
    if (!joined) {
      onRefused({ error: reason === "unreachable" ? UNREACHABLE : refusal, args: [details.message] });
      return true;
    }
    if (refusal === ERROR.AUTHENTICATION_FAILED || refusal === DEVICE_REMOVED) {
      onEnded({ error: refusal, args: [details.message] });
      return true;
    }
    onOffline();
    if (details.will_retry) return false;  // Autobahn|JS tries again by itself
    // Autobahn|JS gives up after any GOODBYE or ABORT (a router shutting down, or one whose
    // backend has not registered the authenticator yet): keep trying as if it had dropped.
    retryTimer = setTimeout(() => connection.open(), RECONNECT.max_retry_delay * 1000);
    return true;
  };

  connection.open();
  return {
    logOut() {
      loggingOut = true;
      clearTimeout(retryTimer);
      try {
        connection.close();
      } catch {
        // already closed (between two reconnect attempts)
      }
    },
  };
}
