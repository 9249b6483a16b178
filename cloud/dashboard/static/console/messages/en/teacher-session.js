// teacher-session pages (en).
export default {};
