// class-transformer ships its metadata storage without types at this path; the JSON Schema
// generator and the event parser need it to follow @Type() into nested classes.
declare module 'class-transformer/cjs/storage' {
  export const defaultMetadataStorage: import('class-transformer/types/MetadataStorage').MetadataStorage;
}
