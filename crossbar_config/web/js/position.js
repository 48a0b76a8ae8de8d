// Where the person is: the browser's geolocation when it is there and allowed, and the point a
// person types in when it is not (a laptop without GPS, a denied permission, plain HTTP on a
// phone, where browsers refuse geolocation to pages that are not on localhost or HTTPS).

const OPTIONS = { enableHighAccuracy: true, maximumAge: 10_000, timeout: 20_000 };

export const hasGeolocation = () => "geolocation" in navigator;

const point = (position) => ({ lat: position.coords.latitude, lng: position.coords.longitude });

/** What to tell a person whose geolocation failed (a GeolocationPositionError, or none at all). */
export function whyNoPosition(error) {
  if (!hasGeolocation()) return "This browser cannot tell where you are.";
  if (error?.code === 1) return "Location permission is denied.";
  return "Your location is not available right now.";
}

/** The position once: resolves to {lat, lng}, rejects with the GeolocationPositionError. */
export function currentPosition() {
  return new Promise((resolve, reject) => {
    if (!hasGeolocation()) reject(null);
    else navigator.geolocation.getCurrentPosition((position) => resolve(point(position)), reject, OPTIONS);
  });
}

/** Follows the position: onPoint({lat, lng}) at each move, onError(error) when it fails. Returns stop(). */
export function watchPosition(onPoint, onError) {
  if (!hasGeolocation()) {
    onError(null);
    return () => {};
  }
  const id = navigator.geolocation.watchPosition((position) => onPoint(point(position)), onError, OPTIONS);
  return () => navigator.geolocation.clearWatch(id);
}

/** Whether the page may read the position without asking (so that reading it never pops a prompt). */
export async function geolocationGranted() {
  if (!hasGeolocation() || !navigator.permissions) return false;
  try {
    return (await navigator.permissions.query({ name: "geolocation" })).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The point in a form's `lat` and `lng` inputs (type=number, whose min, max and required the
 * browser checks before a submit): {lat, lng}, or null when both are empty.
 */
export function readPoint(form) {
  const [lat, lng] = [form.elements.lat.value, form.elements.lng.value];
  if (lat === "" && lng === "") return null;
  return { lat: Number(lat), lng: Number(lng) };
}

export function fillPoint(form, { lat, lng }) {
  // Five decimals: about a metre, and what a person can read.
  form.elements.lat.value = lat.toFixed(5);
  form.elements.lng.value = lng.toFixed(5);
}

/** A point as a person reads it. */
export const formatPoint = ({ lat, lng }) => `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
