// Export: everything stored about the shopper, as a JSON download.
import { announce, el } from "./dom.js";
import { api } from "./session.js";

// -- export ----------------------------------------------------------------------------------------------------------
export async function exportMemories() {
  try {
    const response = await api("GET", "/api/user/memories/export");
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "customer-memory-export.json";
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Downloaded ${name}: everything stored about you, as JSON.`);
  } catch (error) {
    announce(`The export failed: ${error.message}`);
  }
}
