/** Detection stage: vehicles, plate regions, vehicle colour. */
export * from './types.js';
export * from './geometry.js';
export { FastestDetVehicleDetector, decodeFastestDet, COCO_VEHICLES } from './vehicle-detector.js';
export { TextPlateLocator, joinLinePieces, type TextPlateLocatorOptions } from './text-plate-locator.js';
export { OnnxPlateDetector } from './onnx-plate-detector.js';
export { dbBoxes, DEFAULT_DB_OPTIONS, type DbOptions } from './db-postprocess.js';
export { vehicleColor, colorName, VEHICLE_COLORS, type VehicleColor } from './vehicle-color.js';
