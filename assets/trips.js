// The trips page's grid refresh (pages/trips.py). In a file, not inline: the CSP allows only our own scripts.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  trips: {
    // A filter changed: the grid asks the server for its first rows again.
    refreshGrid: function () {
      var api = window.dash_ag_grid && window.dash_ag_grid.getApi && window.dash_ag_grid.getApi("trips-grid");
      if (api) {
        api.purgeInfiniteCache();
        api.ensureIndexVisible(0, "top");
      }
      return Date.now();
    },
  },
});
