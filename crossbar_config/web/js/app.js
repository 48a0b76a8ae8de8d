// The page: the welcome screen (log in, sign up), then the rider's or the driver's screen,
// and the "offline" banner while the connection is down.
//
// A password login registers a device key for this browser (device.js) and goes on with it:
// from then on the page logs in with the key, on every reconnect and after a reload, and no
// longer holds the password. "Log out" removes the device; a device removed elsewhere (or
// expired) brings the page back to the welcome screen.

import { OFFLINE, UNREACHABLE, logIn, logInWithKey, signUp } from "./connection.js";
import { ROLE } from "./contract.js";
import { forgetDevice, registerDevice, removeDevice, storedDevice } from "./device.js";
import { DriverView } from "./driver.js";
import { RiderView } from "./rider.js";
import { $, errorMessage, toast } from "./ui.js";

const views = { [ROLE.RIDER]: new RiderView(), [ROLE.DRIVER]: new DriverView() };
const DEVICE_GONE = "You were logged out: this browser is no longer one of your devices. Please log in again.";
let account = null;  // the logged-in connection: {logOut()}
let session = null;  // its session while it is open
let device = null;  // {username, key} while logged in with this browser's key
let view = null;  // the rider's or the driver's view while logged in
let loggingOut = false;  // "Log out" removes the device: the router's GOODBYE that follows is expected

function showScreen(name) {
  // Each role's screen is the element named after it (index.html).
  for (const screen of ["welcome", ...Object.values(ROLE)]) $(`#${screen}`).hidden = screen !== name;
  $("#account").hidden = name === "welcome";
}

function setOffline(offline) {
  $("#offline").hidden = !offline;
  // Nothing on the screen can be done without a connection: make it inert until it is back.
  $("main").inert = offline;
  document.body.classList.toggle("offline", offline);
}

function loggedOut(message) {
  account = null;
  session = null;
  device = null;
  view?.reset();
  view = null;
  setOffline(false);
  showScreen("welcome");
  for (const form of document.querySelectorAll("#welcome form")) form.querySelector("button").disabled = false;
  if (message) toast(message, "error");
}

/** The handlers of a login (connection.js); `opened(session, first)` may take the session over. */
function handlers(username, { opened = async () => false, refused, ended }) {
  return {
    async onOpen(openSession, details, first) {
      session = openSession;
      setOffline(false);
      if (first) {
        view = views[details.authrole];
        $("#account-name").textContent = `${username} (${details.authrole})`;
        showScreen(details.authrole);
        for (const f of document.querySelectorAll("#welcome form")) f.reset();
      }
      if (await opened(openSession, first)) return;
      view.attach(openSession).catch((failure) => {
        // Dropped again halfway: the banner says so, and the next join starts over.
        if (failure.error !== OFFLINE) toast(errorMessage(failure), "error");
      });
    },
    onOffline() {
      session = null;
      view?.detach();
      setOffline(true);
    },
    onRefused: refused,
    onEnded: ended,
  };
}

/** Logs in with the password, registers this browser's key, and goes on with the key. */
function start(username, password, form) {
  const button = form.querySelector("button[type=submit]");
  const error = form.querySelector(".error");
  button.disabled = true;
  account = logIn(username, password, handlers(username, {
    async opened(passwordSession, first) {
      if (!first) return false;
      let key;
      try {
        key = await registerDevice(passwordSession, username);
      } catch (failure) {
        // Not remembered (say, ten devices already): this session goes on with the password.
        toast(`This browser will not keep you logged in: ${errorMessage(failure)}`, "error");
        return false;
      }
      account.logOut();  // the password's connection, and the password with it
      withKey(username, key);
      return true;
    },
    refused(failure) {
      account = null;
      button.disabled = false;
      error.textContent = errorMessage(failure);
    },
    ended(failure) {
      loggedOut(`You were logged out: ${errorMessage(failure)}`);
    },
  }));
}

/** Logs in with this browser's key: after a password login, and when the page loads. */
function withKey(username, key) {
  device = { username, key };
  const gone = () => {
    if (loggingOut) return;
    forgetDevice();
    loggedOut(DEVICE_GONE);
  };
  account = logInWithKey(username, key, handlers(username, {
    refused(failure) {
      if (failure.error === OFFLINE || failure.error === UNREACHABLE) {
        // The node is away: the key is still good, the next load tries it again.
        loggedOut(errorMessage(failure));
        return;
      }
      gone();
    },
    ended: gone,
  }));
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  form.querySelector(".error").textContent = "";
  start(form.username.value.trim(), form.password.value, form);
});

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = form.querySelector(".error");
  const button = form.querySelector("button[type=submit]");
  const fields = Object.fromEntries(new FormData(form));
  fields.username = fields.username.trim();
  error.textContent = "";
  button.disabled = true;
  try {
    await signUp(fields);
  } catch (failure) {
    error.textContent = errorMessage(failure);
    button.disabled = false;
    return;
  }
  start(fields.username, fields.password, form);
});

$("#logout").addEventListener("click", async () => {
  const [leaving, held] = [account, device];
  loggingOut = true;
  // The device goes first (the service must forget the key, or it would still log in), then the page.
  if (held && session) await removeDevice(session, held.key).catch(() => {});
  forgetDevice();
  leaving?.logOut();
  loggedOut();
  loggingOut = false;
});

showScreen("welcome");
const remembered = storedDevice();
if (remembered) withKey(remembered.username, remembered.key);
