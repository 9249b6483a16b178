// student pages (en).
export default {};
