// Loads an image URL into an HTMLImageElement for Konva; null until it has loaded.
import { useEffect, useState } from 'react';

export function useImage(url: string | null | undefined): { image: HTMLImageElement | null; error: string | null } {
  const [state, setState] = useState<{ url: string | null; image: HTMLImageElement | null; error: string | null }>({ url: null, image: null, error: null });
  useEffect(() => {
    if (!url) return;
    let live = true;
    const img = new window.Image();
    img.onload = () => live && setState({ url, image: img, error: null });
    img.onerror = () => live && setState({ url, image: null, error: `could not load the image ${url.startsWith('data:') ? '(inline data)' : url}` });
    img.src = url;
    return () => {
      live = false;
    };
  }, [url]);
  if (!url) return { image: null, error: null };
  // Keep showing the previous image until the next one has loaded (no flash between results).
  return { image: state.image, error: state.url === url ? state.error : null };
}
