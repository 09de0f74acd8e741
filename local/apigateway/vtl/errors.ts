/** A template that cannot be parsed or rendered: API Gateway answers 500 for it. */
export class MappingTemplateError extends Error {
  readonly code = "MAPPING_TEMPLATE_ERROR";
}
