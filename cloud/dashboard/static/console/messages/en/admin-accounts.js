// admin-accounts pages (en).
export default {};
