// The rider's screen: ask for a ride, follow it live, cancel it, see past rides.

import { call } from "./connection.js";
import { PROCEDURE, ROLE, STATUS } from "./contract.js";
import { MyTrips, isActive } from "./trips.js";
import { $, busy, errorMessage, fillList, h, historyItem, personName, toast, tripCard } from "./ui.js";

const CANCELLABLE = new Set([STATUS.REQUESTED, STATUS.STARTED]);

/** What the rider reads about her trip, on its card and in its toast. */
function headline(trip) {
  switch (trip.status) {
    case STATUS.REQUESTED: return "Looking for a driver…";
    case STATUS.STARTED: return `${personName(trip.driver)} is coming to pick you up`;
    case STATUS.IN_PROGRESS: return `On your way to ${trip.drop_off_address}`;
    case STATUS.COMPLETED: return `You have arrived at ${trip.drop_off_address}`;
    case STATUS.CANCELED: return "This ride was cancelled";
  }
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
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.request();
    });
    this.form.addEventListener("input", () => (this.requestId = null));
  }

  async attach(session) {
    this.session = session;
    await this.trips.attach(session);
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
    $("#request-error").textContent = "";
    this.render();
  }

  async request() {
    const error = $("#request-error");
    error.textContent = "";
    this.requestId ??= newRequestId();
    const fields = Object.fromEntries(new FormData(this.form));
    try {
      const trip = await busy(this.form.querySelector("button"), () =>
        call(this.session, PROCEDURE.TRIP_REQUEST, { ...fields, request_id: this.requestId }),
      );
      this.requestId = null;
      this.form.reset();
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
    if (before) toast(`${headline(trip)}.`, trip.status === STATUS.CANCELED ? "error" : "info");
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
      card.replaceChildren(tripCard(trip, headline(trip), ROLE.RIDER, cancel));
    }
    const past = this.trips.finished().map((t) => historyItem(t, t.driver && `driver ${personName(t.driver)}`));
    fillList($("#rider-history"), past, "No past rides yet.");
  }
}
