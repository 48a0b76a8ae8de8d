// The rider's screen: ask for a ride (from a pick-up point, or none), follow it live (with a
// point: how its dispatch stands), cancel it, see past rides.

import { call } from "./connection.js";
import { DISPATCH, PROCEDURE, ROLE, STATUS } from "./contract.js";
import { PickUpPoint } from "./pickup.js";
import { MyTrips, isActive } from "./trips.js";
import { $, busy, countdown, errorMessage, fillList, h, historyItem, personName, toast, tripCard } from "./ui.js";

const CANCELLABLE = new Set([STATUS.REQUESTED, STATUS.STARTED]);

/** What the rider reads about her trip, on its card and in its toast. */
function headline(trip) {
  switch (trip.status) {
    case STATUS.REQUESTED: return "Looking for a driver…";
    case STATUS.STARTED: return `${personName(trip.driver)} is coming to pick you up`;
    case STATUS.IN_PROGRESS: return `On your way to ${trip.drop_off_address}`;
    case STATUS.COMPLETED: return `You have arrived at ${trip.drop_off_address}`;
    case STATUS.CANCELED: return "This ride was cancelled";
    case STATUS.EXPIRED: return "No driver accepted in time: your request expired";
  }
}

const drivers = (n) => `${n} driver${n === 1 ? "" : "s"}`;

/** How the dispatch of a located request stands, in words (null for a trip without a point). */
function progress({ dispatch }) {
  if (!dispatch) return null;
  const { round, offered, state } = dispatch;
  const within = `within ${dispatch.radius_km?.toFixed(1)} km`;
  if (state === DISPATCH.OFFERING && round === 1) return `Offered to the ${drivers(offered)} nearest you, ${within}`;
  if (state === DISPATCH.OFFERING) return `Widening the search: offered to ${drivers(offered)} so far, ${within}`;
  if (state === DISPATCH.SEARCHING && round === 0) return "Searching for drivers nearby…";
  if (state === DISPATCH.SEARCHING) return `Offered to ${drivers(offered)} ${within}: searching further…`;
  if (state === DISPATCH.EXPIRED) return `Offered to ${drivers(offered)}; nobody took it. Request again to try once more.`;
  return null;
}

/** The lines under the headline: the dispatch's progress and, while it runs, when it gives up. */
function dispatchNotes(trip) {
  const text = progress(trip);
  if (!text) return [];
  const { state, expires } = trip.dispatch;
  const running = state === DISPATCH.OFFERING || state === DISPATCH.SEARCHING;
  return [
    h("p", { class: "dispatch", "data-state": state }, text),
    // The service expires it itself (EXPIRED, by event): this clock is only to tell the rider.
    running && h("p", { class: "note" }, "Expires in ", countdown(Date.parse(expires))),
  ];
}

/** A 32-hex-digit id that makes a retried request safe (no second trip); works without HTTPS. */
function newRequestId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class RiderView {
  constructor() {
    this.trips = new MyTrips((trip, before) => this.changed(trip, before));
    this.currentNk = null;
    this.requestId = null;  // kept until the request is answered, so a retry after a drop is the same request
    this.form = $("#request-form");
    this.pickUp = new PickUpPoint(this.form);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.request();
    });
    this.form.addEventListener("input", () => (this.requestId = null));
  }

  async attach(session) {
    this.session = session;
    await this.trips.attach(session);
    this.pickUp.prefill();
    this.render();
  }

  detach() {
    this.session = null;
    this.trips.detach();
  }

  reset() {
    this.detach();
    this.trips.clear();
    this.currentNk = null;
    this.form.reset();
    this.pickUp.reset();
    $("#request-error").textContent = "";
    this.render();
  }

  async request() {
    const error = $("#request-error");
    error.textContent = "";
    this.requestId ??= newRequestId();
    const { pick_up_address, drop_off_address } = this.form.elements;
    const fields = { pick_up_address: pick_up_address.value, drop_off_address: drop_off_address.value };
    const point = this.pickUp.point();
    if (point) fields.pick_up_location = point;
    try {
      const trip = await busy(this.form.querySelector("button[type=submit]"), () =>
        call(this.session, PROCEDURE.TRIP_REQUEST, { ...fields, request_id: this.requestId }),
      );
      this.requestId = null;
      pick_up_address.value = drop_off_address.value = "";  // the point stays: she is still there
      this.currentNk = trip.nk;
      this.trips.apply(trip);
      this.render();
      toast("Ride requested. Looking for a driver…");
    } catch (failure) {
      error.textContent = errorMessage(failure);
    }
  }

  async cancel(trip, button) {
    try {
      this.trips.apply(await busy(button, () => call(this.session, PROCEDURE.TRIP_CANCEL, { nk: trip.nk })));
    } catch (failure) {
      toast(errorMessage(failure), "error");
    }
  }

  changed(trip, before) {
    // A dispatch round is a change too, and shows on the card: only a new status is worth a toast.
    const bad = trip.status === STATUS.CANCELED || trip.status === STATUS.EXPIRED;
    if (before && before.status !== trip.status) toast(`${headline(trip)}.`, bad ? "error" : "info");
    this.render();
  }

  /** The trip on the card: the one she follows, until it is over and a newer one is under way. */
  current() {
    const followed = this.trips.trips.get(this.currentNk);
    if (followed && isActive(followed)) return followed;
    return this.trips.active()[0] ?? followed ?? null;
  }

  render() {
    const trip = this.current();
    this.currentNk = trip?.nk ?? null;
    const card = $("#rider-current");
    if (!trip) {
      card.replaceChildren(h("p", { class: "empty" }, "No ride yet. Where to?"));
    } else {
      const cancel = CANCELLABLE.has(trip.status)
        ? [h("button", { type: "button", class: "danger", onclick: (e) => this.cancel(trip, e.target) }, "Cancel ride")]
        : [];
      card.replaceChildren(tripCard(trip, headline(trip), ROLE.RIDER, cancel, dispatchNotes(trip)));
    }
    const past = this.trips.finished().map((t) => historyItem(t, t.driver && `driver ${personName(t.driver)}`));
    fillList($("#rider-history"), past, "No past rides yet.");
  }
}
