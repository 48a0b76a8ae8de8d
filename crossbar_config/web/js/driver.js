// The driver's screen: online or offline, the requests up for grabs and his own offers (live),
// accept one, move it on step by step.

import { call } from "./connection.js";
import { ERROR, PROCEDURE, ROLE, STATUS } from "./contract.js";
import { Available } from "./offers.js";
import { Presence } from "./presence.js";
import { MyTrips } from "./trips.js";
import { $, busy, countdown, errorMessage, fillList, h, historyItem, personName, toast, tripCard } from "./ui.js";

/** The driver's next step for each status of his trip: [status to send, what the button says]. */
const NEXT_STEP = {
  [STATUS.STARTED]: [STATUS.IN_PROGRESS, "Rider picked up: start the ride"],
  [STATUS.IN_PROGRESS]: [STATUS.COMPLETED, "Rider dropped off: complete the ride"],
};

function headline(trip) {
  switch (trip.status) {
    case STATUS.STARTED: return `Pick up ${personName(trip.rider)} at ${trip.pick_up_address}`;
    case STATUS.IN_PROGRESS: return `Drive ${personName(trip.rider)} to ${trip.drop_off_address}`;
    case STATUS.COMPLETED: return "Ride completed";
    case STATUS.CANCELED: return `${personName(trip.rider)} cancelled the ride`;
  }
}

export class DriverView {
  constructor() {
    this.trips = new MyTrips((trip, before) => this.changed(trip, before));
    this.available = new Available(() => this.render());
    this.presence = new Presence();
    this.session = null;
    // An offer's countdown ends on the page as on the service (whose "closed" follows).
    setInterval(() => this.available.endWindows(), 250);
  }

  async attach(session) {
    this.session = session;
    this.presence.attach(session);
    await Promise.all([this.trips.attach(session), this.available.attach(session)]);
    this.render();
  }

  detach() {
    this.session = null;
    this.presence.detach();
    this.trips.detach();
  }

  reset() {
    this.detach();
    this.presence.reset();
    this.trips.clear();
    this.available = new Available(() => this.render());
    this.render();
  }

  async accept(trip, button) {
    try {
      const accepted = await busy(button, () => call(this.session, PROCEDURE.TRIP_UPDATE, { nk: trip.nk, status: STATUS.STARTED }));
      this.available.remove(trip.nk);
      this.trips.apply(accepted);
      toast(`Ride accepted: pick up ${personName(accepted.rider)} at ${accepted.pick_up_address}.`);
    } catch (failure) {
      const gone = [ERROR.TRIP_TAKEN, ERROR.INVALID_TRANSITION, ERROR.NOT_FOUND];
      if (gone.includes(failure.error)) this.available.remove(trip.nk);
      toast(failure.error === ERROR.TRIP_TAKEN ? "Another driver was faster: that ride is taken." : errorMessage(failure), "error");
    }
  }

  async advance(trip, status, button) {
    try {
      this.trips.apply(await busy(button, () => call(this.session, PROCEDURE.TRIP_UPDATE, { nk: trip.nk, status })));
    } catch (failure) {
      toast(errorMessage(failure), "error");
    }
  }

  changed(trip, before) {
    if (before && trip.status === STATUS.CANCELED) toast(`${headline(trip)}.`, "error");
    else if (before && trip.status === STATUS.COMPLETED) toast("Ride completed. Well done!");
    else if (before && trip.status === STATUS.IN_PROGRESS) toast(`Ride started: ${headline(trip)}.`);
    this.render();
  }

  render() {
    const [current] = this.trips.active();
    const card = $("#driver-current");
    if (current) {
      const [status, label] = NEXT_STEP[current.status];
      const next = h("button", { type: "button", onclick: (e) => this.advance(current, status, e.target) }, label);
      card.replaceChildren(tripCard(current, headline(current), ROLE.DRIVER, [next]));
    } else {
      card.replaceChildren(h("p", { class: "empty" }, "No ride right now: accept a request below."));
    }
    const requests = this.available.list().map((trip) => this.request(trip, current));
    fillList($("#available"), requests, "No requests right now. New ones appear here at once.");
    $("#available-note").hidden = !current || !requests.length;
    const past = this.trips.finished().map((t) => historyItem(t, `rider ${personName(t.rider)}`));
    fillList($("#driver-history"), past, "No past rides yet.");
  }

  /** A request on the list: one for every driver, or (with a pick-up point) an offer to him. */
  request(trip, current) {
    const accept = h(
      "button",
      { type: "button", disabled: Boolean(current), onclick: (e) => this.accept(trip, e.target) },
      `Accept ride from ${trip.pick_up_address}`,
    );
    const offer = Boolean(trip.pick_up_location);
    const deadline = offer && this.available.deadline(trip.nk);
    const notes = offer
      ? [h("p", { class: "offer" }, "Offered to you", deadline && " · ends in ", deadline && countdown(deadline))]
      : [];
    const card = tripCard(trip, `${personName(trip.rider)} needs a ride`, ROLE.DRIVER, [accept], notes);
    return h("li", { "data-nk": trip.nk, class: offer ? "offer" : null }, card);
  }
}
