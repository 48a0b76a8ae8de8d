// This browser's device key (docs/contract.md, "Logging in with a device"): an Ed25519 key pair
// made here with Autobahn|JS's cryptosign, its seed kept in localStorage (never the password),
// its public key registered once after a password login; from then on the page logs in with it,
// so a reload keeps the user logged in.

import { call } from "./connection.js";
import { PROCEDURE } from "./contract.js";

const SEED = "taxi.device.seed";  // Autobahn|JS's load_private_key keeps the seed under this name
const USER = "taxi.device.user";  // whose device it is: set only once the service has the key

/** {username, key} of the device this browser holds, or null. */
export function storedDevice() {
  const username = localStorage.getItem(USER);
  if (!username || !localStorage.getItem(SEED)) return null;
  return { username, key: autobahn.auth_cryptosign.load_private_key(SEED) };
}

/** A new key pair, registered for the logged-in user (user.add_device); resolves to the key. */
export async function registerDevice(session, username) {
  forgetDevice();
  const key = autobahn.auth_cryptosign.load_private_key(SEED, true);
  await call(session, PROCEDURE.USER_ADD_DEVICE, { public_key: publicKey(key), name: deviceName() });
  localStorage.setItem(USER, username);
  return key;
}

/** user.remove_device for this browser's own key: the router then ends the session, after the answer. */
export function removeDevice(session, key) {
  return call(session, PROCEDURE.USER_REMOVE_DEVICE, { public_key: publicKey(key) });
}

export function forgetDevice() {
  localStorage.removeItem(USER);
  localStorage.removeItem(SEED);
}

const publicKey = (key) => autobahn.auth_cryptosign.public_key(key);

function deviceName() {
  // What the user would recognise in a list of his devices; at most the contract's 100 characters.
  return `Web browser (${navigator.platform || "unknown"})`.slice(0, 100);
}
