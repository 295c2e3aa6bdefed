// Custom tfjs layers are made by a factory given `tf` (the engine never imports
// tfjs at module level), created once per tfjs instance and registered for
// serialisation so that trained models save and load in the tfjs format.
export { customLayer } from './tfjs-kit.js';
