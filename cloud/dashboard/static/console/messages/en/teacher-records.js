// teacher-records pages (en).
export default {};
