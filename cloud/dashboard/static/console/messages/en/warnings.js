// warnings pages (en).
export default {};
