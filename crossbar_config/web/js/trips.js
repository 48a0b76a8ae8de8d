// The trips a rider or driver takes part in, kept live: `trip.list` on every (re)join, and each
// active trip's topic `taxi.trip.<nk>` subscribed with get_retained, so that its latest state
// arrives at once even if it changed while we were away.

import { call } from "./connection.js";
import { PROCEDURE, STATUS, tripTopic } from "./contract.js";

const RANK = {
  [STATUS.REQUESTED]: 0,
  [STATUS.STARTED]: 1,
  [STATUS.IN_PROGRESS]: 2,
  [STATUS.COMPLETED]: 3,
  [STATUS.CANCELED]: 3,
  [STATUS.EXPIRED]: 3,
};

export const isActive = (trip) => RANK[trip.status] < 3;

/**
 * Whether `trip` is a newer state than `known`. Events come at least once, in order per trip,
 * and answers may cross events: each carries the seq of the trip's latest event, so anything
 * not greater than what we hold is a duplicate or stale, and is dropped (docs/contract.md).
 */
export const isNewer = (trip, known) => !known || trip.seq > known.seq;

const newestFirst = (a, b) => b.created.localeCompare(a.created);

export class MyTrips {
  /** onChange(trip, before): a trip is new (`before` undefined) or has moved on. */
  constructor(onChange) {
    this.onChange = onChange;
    this.trips = new Map();
    this.session = null;
    this.followed = new Set();
  }

  async attach(session) {
    this.session = session;
    this.followed = new Set();  // a new session has none of the old one's subscriptions
    const trips = await call(session, PROCEDURE.TRIP_LIST);
    if (this.session !== session) return;
    trips.reverse().forEach((trip) => this.apply(trip));
    await Promise.all(this.active().map((trip) => this.follow(trip)));
  }

  detach() {
    this.session = null;
  }

  clear() {
    this.detach();
    this.trips.clear();
  }

  /** Takes in a trip's state from any source (a call's answer, trip.list, an event); late ones are ignored. */
  apply(trip) {
    const before = this.trips.get(trip.nk);
    if (before && !isNewer(trip, before)) return;
    this.trips.set(trip.nk, trip);
    if (isActive(trip)) this.follow(trip);
    this.onChange(trip, before);
  }

  async follow(trip) {
    const session = this.session;
    if (!session || this.followed.has(trip.nk)) return;
    this.followed.add(trip.nk);
    try {
      await session.subscribe(tripTopic(trip.nk), ([event]) => this.apply(event), { get_retained: true });
    } catch (error) {
      this.followed.delete(trip.nk);
      console.warn(`could not follow trip ${trip.nk}`, error);
    }
  }

  active() {
    return this.all().filter(isActive);
  }

  finished() {
    return this.all().filter((trip) => !isActive(trip));
  }

  all() {
    return [...this.trips.values()].sort(newestFirst);
  }
}
