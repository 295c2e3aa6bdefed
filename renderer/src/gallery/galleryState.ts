// Whether the template gallery is open, and in which window: view state, never undone or saved.
import { windowModal } from '../windowModal.js';

export const gallery = windowModal();

export const openGallery = (): void => gallery.open();
export const closeGallery = (): void => gallery.close();
