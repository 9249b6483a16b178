// admin-courses pages (en).
export default {};
