/* global window, SwaggerUIBundle */
// Starts Swagger UI on the locally served OpenAPI document. A separate file rather than an
// inline script, so the page's Content-Security-Policy can forbid inline scripts.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    // Tokens stay in memory: a shared lab computer should not keep a teacher's session.
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
