// The site page's battery grid: a vehicle number links to its battery page (pages/site.py).
// In a file, not inline: the Content-Security-Policy allows only our own scripts.
window.dashAgGridComponentFunctions = Object.assign({}, window.dashAgGridComponentFunctions, {
  BatteryLink: function (props) {
    if (!props.data || !props.data.device_id) return props.value || null;
    return React.createElement("a", {href: "/battery/" + encodeURIComponent(props.data.device_id)},
                               props.value || props.data.device_id);
  },
});
