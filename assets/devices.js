// The devices page's grid refresh (pages/devices.py). In a file, not inline: the CSP allows only our scripts.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  devices: {
    // A filter changed: back to the first row. A device was saved or a file imported: reload in place.
    refreshGrid: function () {
      var api = window.dash_ag_grid && window.dash_ag_grid.getApi && window.dash_ag_grid.getApi("devices-grid");
      if (api) {
        var trigger = window.dash_clientside.callback_context.triggered_id;
        if (trigger === "devices-saved" || trigger === "devices-imported") {
          api.refreshInfiniteCache();
        } else {
          api.purgeInfiniteCache();
          api.ensureIndexVisible(0, "top");
        }
      }
      return Date.now();
    },
  },
});
