// What the page holds while it is open: the server's config, the session, the list it drew, the chat so far.

export const state = { config: null, session: null, listing: null, chat: [], refreshTimer: null, refreshing: null, learningWatch: 0, patterns: [], orders: 0 };
