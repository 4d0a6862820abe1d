/**
 * Detection stage contracts. A vehicle detector finds vehicles in a frame; a plate locator
 * finds plate-shaped regions inside search areas (vehicle boxes or the region of interest).
 */
import type { RgbImage } from '../inference/image.js';
import type { Box, VehicleDetection } from '../contracts.js';

export type { Box, VehicleDetection };

export interface VehicleDetector {
  readonly name: string;
  load(): Promise<void>;
  detect(image: RgbImage): Promise<VehicleDetection[]>;
  dispose(): Promise<void>;
}

/** A region that may hold a plate, in image pixels. */
export interface PlateRegion {
  box: Box;
  /** Detector score, 0..1. */
  score: number;
  /** Which locator found it, e.g. 'ppocr-det', or 'ppocr-det+merge' for joined text pieces. */
  source: string;
}

export interface PlateLocator {
  readonly name: string;
  load(): Promise<void>;
  /** Plate regions inside `searchAreas` (whole image when empty), best first. */
  locate(image: RgbImage, searchAreas?: Box[]): Promise<PlateRegion[]>;
  dispose(): Promise<void>;
}

/** Plate shape limits: what a plate box may look like (after the detector's unclip). */
export interface PlateGeometry {
  minAspect: number;
  maxAspect: number;
  minWidth: number;
  minHeight: number;
  /** Largest plate width as a fraction of the image width. */
  maxWidthFraction: number;
  /** Largest plate height as a fraction of the image height. */
  maxHeightFraction: number;
}

export const DEFAULT_PLATE_GEOMETRY: PlateGeometry = {
  minAspect: 1.5,
  maxAspect: 6,
  minWidth: 20,
  minHeight: 8,
  maxWidthFraction: 0.8,
  maxHeightFraction: 0.5,
};

export function isPlateShaped(b: Box, imgW: number, imgH: number, g: PlateGeometry = DEFAULT_PLATE_GEOMETRY): boolean {
  const aspect = b.width / Math.max(1, b.height);
  return (
    aspect >= g.minAspect &&
    aspect <= g.maxAspect &&
    b.width >= g.minWidth &&
    b.height >= g.minHeight &&
    b.width <= g.maxWidthFraction * imgW &&
    b.height <= g.maxHeightFraction * imgH
  );
}
