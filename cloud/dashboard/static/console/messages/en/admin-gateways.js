// admin-gateways pages (en).
export default {};
