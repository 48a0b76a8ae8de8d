// What every screen shares: building elements, toasts, how a trip and an error read to a person.
// Text from users or the server only ever goes in as text nodes (never innerHTML).

import { OFFLINE, UNREACHABLE } from "./connection.js";
import { ERROR, ROLE, STATUS } from "./contract.js";
import { formatPoint } from "./position.js";

/** h("p", {class: "x"}, "text", child) -> <p class="x">text<child></p>; null and false children are skipped. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value !== false && value != null) element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child != null && child !== false));
  return element;
}

export const $ = (selector) => document.querySelector(selector);

const TOAST_SECONDS = 6;
const TOASTS_SHOWN = 3;

/** A short message at the bottom of the screen, read out by screen readers; the newest few stay. */
export function toast(text, kind = "info") {
  const toasts = $("#toasts");
  const item = h("p", { class: `toast ${kind}` }, text);
  toasts.append(item);
  while (toasts.children.length > TOASTS_SHOWN) toasts.firstElementChild.remove();
  setTimeout(() => item.remove(), TOAST_SECONDS * 1000);
}

export function personName(user) {
  if (!user) return "";
  const full = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return full || user.username;
}

export const STATUS_LABELS = {
  [STATUS.REQUESTED]: "Requested",
  [STATUS.STARTED]: "Driver on the way",
  [STATUS.IN_PROGRESS]: "On the road",
  [STATUS.COMPLETED]: "Completed",
  [STATUS.CANCELED]: "Cancelled",
  [STATUS.EXPIRED]: "Expired",
};

const when = (iso) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

/**
 * A trip as a card: its status, the headline and `notes` (elements), where from and to, who (but
 * not `viewer`, the one looking), when, then `actions`.
 */
export function tripCard(trip, headline, viewer, actions = [], notes = []) {
  const rider = viewer !== ROLE.RIDER && trip.rider;
  const driver = viewer !== ROLE.DRIVER && trip.driver;
  const point = trip.pick_up_location;
  return h(
    "article",
    { class: "trip", "data-nk": trip.nk, "data-status": trip.status },
    h("p", { class: "status" }, STATUS_LABELS[trip.status] ?? trip.status),
    h("p", { class: "headline" }, headline),
    ...notes,
    h(
      "dl",
      {},
      h("dt", {}, "From"), h("dd", {}, trip.pick_up_address),
      h("dt", {}, "To"), h("dd", {}, trip.drop_off_address),
      point && h("dt", {}, "Pick-up point"), point && h("dd", {}, formatPoint(point)),
      rider && h("dt", {}, "Rider"), rider && h("dd", {}, personName(rider)),
      driver && h("dt", {}, "Driver"), driver && h("dd", {}, personName(driver)),
      h("dt", {}, "Requested"), h("dd", {}, when(trip.created)),
    ),
    actions.length ? h("div", { class: "actions" }, ...actions) : null,
  );
}

/** "42 s", "1:05": what is left until `deadline` (ms since the epoch), never below nothing. */
function timeLeft(deadline) {
  const seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** A <span> that counts down to `deadline` (ms since the epoch); every one on the page ticks. */
export function countdown(deadline) {
  return h("span", { class: "countdown", "data-deadline": deadline }, timeLeft(deadline));
}

// One timer for every countdown: a quarter of a second, so that each shows the right second.
setInterval(() => {
  for (const span of document.querySelectorAll(".countdown")) span.textContent = timeLeft(Number(span.dataset.deadline));
}, 250);

/** A past trip, one line: for the history lists. */
export function historyItem(trip, other) {
  return h(
    "li",
    { "data-nk": trip.nk, "data-status": trip.status },
    h("span", { class: "route" }, `${trip.pick_up_address} → ${trip.drop_off_address}`),
    h("span", { class: "meta" }, `${STATUS_LABELS[trip.status]} · ${when(trip.updated)}${other ? ` · ${other}` : ""}`),
  );
}

/** <ul> or a line that says it is empty. */
export function fillList(list, items, emptyText) {
  list.replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, emptyText)]));
}

const MESSAGES = {
  [ERROR.USERNAME_TAKEN]: "That username is taken: choose another one.",
  [ERROR.AUTHENTICATION_FAILED]: "Wrong username or password.",
  [ERROR.NOT_AUTHORIZED]: "You are not allowed to do that.",
  [ERROR.TRIP_TAKEN]: "Another driver was faster: that trip is taken.",
  [ERROR.INVALID_TRANSITION]: "That is no longer possible: the trip has changed meanwhile.",
  [ERROR.NOT_FOUND]: "That trip is no longer there.",
  [ERROR.INTERNAL]: "Something went wrong on our side. Please try again.",
  [ERROR.NO_SUCH_PROCEDURE]: "The service is restarting. Please try again in a moment.",
  [ERROR.CANCELED]: "The service is restarting. Please try again in a moment.",
  [OFFLINE]: "The connection was lost: please try again once it is back.",
  [UNREACHABLE]: "Cannot reach the server. Check your connection and try again.",
};

/** What to tell a person about a failed call or login (an autobahn.Error, or anything thrown). */
export function errorMessage(error) {
  const uri = error?.error;
  if (uri === ERROR.INVALID_ARGUMENT) {
    const detail = error.args?.[0];
    return typeof detail === "string" ? `Please check what you entered: ${detail}.` : "Please check what you entered.";
  }
  if (MESSAGES[uri]) return MESSAGES[uri];
  console.error(error);
  return "Something went wrong. Please try again.";
}

/** Runs `action` with `button` disabled, so one tap sends one call. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}
