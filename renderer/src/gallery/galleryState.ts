// Whether the template gallery is open: view state, never undone or saved.
import { create } from 'zustand';

export const useGallery = create<{ open: boolean }>(() => ({ open: false }));

export const openGallery = (): void => useGallery.setState({ open: true });
export const closeGallery = (): void => useGallery.setState({ open: false });
