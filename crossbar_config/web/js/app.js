// The page: the welcome screen (log in, sign up), then the rider's or the driver's screen,
// and the "offline" banner while the connection is down.

import { OFFLINE, logIn, signUp } from "./connection.js";
import { ROLE } from "./contract.js";
import { DriverView } from "./driver.js";
import { RiderView } from "./rider.js";
import { $, errorMessage, toast } from "./ui.js";

const views = { [ROLE.RIDER]: new RiderView(), [ROLE.DRIVER]: new DriverView() };
let account = null;  // the logged-in connection: {logOut()}
let view = null;  // the rider's or the driver's view while logged in

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
  view?.reset();
  view = null;
  setOffline(false);
  showScreen("welcome");
  for (const form of document.querySelectorAll("#welcome form")) form.querySelector("button").disabled = false;
  if (message) toast(message, "error");
}

function start(username, password, form) {
  const button = form.querySelector("button[type=submit]");
  const error = form.querySelector(".error");
  button.disabled = true;
  account = logIn(username, password, {
    onOpen(session, details, first) {
      setOffline(false);
      if (first) {
        view = views[details.authrole];
        $("#account-name").textContent = `${username} (${details.authrole})`;
        showScreen(details.authrole);
        for (const f of document.querySelectorAll("#welcome form")) f.reset();
      }
      view.attach(session).catch((failure) => {
        // Dropped again halfway: the banner says so, and the next join starts over.
        if (failure.error !== OFFLINE) toast(errorMessage(failure), "error");
      });
    },
    onOffline() {
      view?.detach();
      setOffline(true);
    },
    onRefused(failure) {
      account = null;
      button.disabled = false;
      error.textContent = errorMessage(failure);
    },
    onEnded(failure) {
      loggedOut(`You were logged out: ${errorMessage(failure)}`);
    },
  });
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

$("#logout").addEventListener("click", () => {
  account?.logOut();
  loggedOut();
});

showScreen("welcome");
