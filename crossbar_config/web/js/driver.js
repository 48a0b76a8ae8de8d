// The driver's screen: the requests up for grabs (live), accept one, move it on step by step.

import { call } from "./connection.js";
import { DRIVERS_TOPIC, ERROR, PROCEDURE, ROLE, STATUS } from "./contract.js";
import { MyTrips, isNewer } from "./trips.js";
import { $, busy, errorMessage, fillList, h, historyItem, personName, toast, tripCard } from "./ui.js";

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

const oldestFirst = (a, b) => a.created.localeCompare(b.created);

/** The REQUESTED trips: trip.available on every (re)join, kept live from the drivers' topic. */
class Available {
  constructor(onChange) {
    this.onChange = onChange;
    this.trips = new Map();
  }

  async attach(session) {
    // Subscribe first, then fetch: events that arrive while the list is on its way are kept and
    // applied on top of it, so none is lost and none is undone by an older answer.
    const early = [];
    let onEvent = (trip) => early.push(trip);
    await session.subscribe(DRIVERS_TOPIC, ([trip]) => onEvent(trip));
    const requested = await call(session, PROCEDURE.TRIP_AVAILABLE);
    this.seen = new Map(requested.map((trip) => [trip.nk, trip]));
    this.trips = new Map(this.seen);
    onEvent = (trip) => this.apply(trip, true);
    early.forEach((trip) => this.apply(trip, false));
    this.onChange();
  }

  apply(trip, live) {
    if (!isNewer(trip, this.seen.get(trip.nk))) return;
    this.seen.set(trip.nk, trip);
    const isNew = trip.status === STATUS.REQUESTED && !this.trips.has(trip.nk);
    if (trip.status === STATUS.REQUESTED) this.trips.set(trip.nk, trip);
    else this.trips.delete(trip.nk);
    if (live && isNew) toast(`New ride request: ${trip.pick_up_address} → ${trip.drop_off_address}`);
    if (live) this.onChange();
  }

  remove(nk) {
    this.trips.delete(nk);
    this.onChange();
  }

  list() {
    return [...this.trips.values()].sort(oldestFirst);
  }
}

export class DriverView {
  constructor() {
    this.trips = new MyTrips((trip, before) => this.changed(trip, before));
    this.available = new Available(() => this.render());
    this.session = null;
  }

  async attach(session) {
    this.session = session;
    await Promise.all([this.trips.attach(session), this.available.attach(session)]);
    this.render();
  }

  detach() {
    this.session = null;
    this.trips.detach();
  }

  reset() {
    this.detach();
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
    const requests = this.available.list().map((trip) =>
      h(
        "li",
        { "data-nk": trip.nk },
        tripCard(trip, `${personName(trip.rider)} needs a ride`, ROLE.DRIVER, [
          h(
            "button",
            { type: "button", disabled: Boolean(current), onclick: (e) => this.accept(trip, e.target) },
            `Accept ride from ${trip.pick_up_address}`,
          ),
        ]),
      ),
    );
    fillList($("#available"), requests, "No requests right now. New ones appear here at once.");
    $("#available-note").hidden = !current || !requests.length;
    const past = this.trips.finished().map((t) => historyItem(t, `rider ${personName(t.rider)}`));
    fillList($("#driver-history"), past, "No past rides yet.");
  }
}
