/* Web chat of the CAPP assistant: talks to Rasa's socket.io channel.
 *
 * Rasa (credentials.yml, `socketio`): the client sends `session_request`
 * {session_id} and `user_uttered` {message, session_id}; Rasa answers
 * `session_confirm` and `bot_uttered` ({text}, {text, quick_replies},
 * {attachment}). With session_persistence the session id lives in
 * localStorage, and so do the rendered messages, so a reload keeps the
 * conversation. Everything a user sees is in Spanish.
 *
 * While the page itself is (re)connecting (on load, after "Nueva
 * conversación") messages are queued and sent on `session_confirm`; only
 * when the server is unreachable is a message refused ("no se envió").
 */
(function () {
  "use strict";

  var CLAVE = "capp-chat-v1";
  var MAX_MENSAJES = 200;
  var ESPERA_MAXIMA_MS = 20000;
  var TEXTOS = {
    conectando: "Conectando…",
    conectado: "Conectado",
    sinConexion: "Sin conexión",
    inalcanzable: "No pudimos conectar con el asistente. Revise su conexión a internet o intente de nuevo en unos minutos. También puede llamar a ISSSTETEL 55 4000 1000, opción 5.",
    perdida: "Se perdió la conexión con el asistente; estamos intentando reconectar…",
    noEnviado: "Su mensaje no se envió porque no hay conexión con el asistente. Intente de nuevo en un momento.",
    enEspera: "Sus mensajes se enviarán en cuanto se restablezca la conexión.",
    sinRespuesta: "El asistente está tardando en responder. Puede esperar un momento o escribir de nuevo.",
    sinLibreria: "No se pudo cargar el chat. Recargue la página.",
    usted: "Usted dijo:",
    asistente: "El asistente dijo:",
    documento: "Descargar documento (PDF)",
    enlaceDocumento: "enlace al documento",
    imagen: "Imagen enviada por el asistente",
    opciones: "Opciones de respuesta",
    bienvenida: "¡Hola! Soy el asistente del Centro de Atención de Préstamos Personales (CAPP) del ISSSTE. Puedo ayudarle con su saldo, simular un préstamo, sus citas y las preguntas frecuentes. ¿En qué le ayudo?"
  };
  var BOTONES_INICIALES = [
    { title: "Simular un préstamo", payload: "/simular_prestamo" },
    { title: "Consultar mi saldo", payload: "/consultar_saldo" },
    { title: "Agendar una cita", payload: "/agendar_cita" },
    { title: "Requisitos", payload: "/consultar_requisitos" }
  ];

  var $ = function (id) { return document.getElementById(id); };
  var lista = $("mensajes");
  var formulario = $("formulario");
  var entrada = $("mensaje");
  var estado = $("estado");
  var aviso = $("aviso");
  var escribiendo = $("escribiendo");
  var botonNueva = $("nueva");

  // -- storage ---------------------------------------------------------------

  function nuevoId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID().replace(/-/g, "");
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function leer() {
    try {
      var datos = JSON.parse(window.localStorage.getItem(CLAVE) || "null");
      if (datos && typeof datos.sessionId === "string" && Array.isArray(datos.mensajes)) { return datos; }
    } catch (e) { /* corrupt or unavailable storage: start over */ }
    return null;
  }

  var estadoChat = leer() || { sessionId: nuevoId(), mensajes: [] };

  function guardar() {
    estadoChat.mensajes = estadoChat.mensajes.slice(-MAX_MENSAJES);
    try { window.localStorage.setItem(CLAVE, JSON.stringify(estadoChat)); } catch (e) { /* private mode */ }
  }

  // -- rendering -------------------------------------------------------------

  function urlSegura(url) {
    try {
      var u = new URL(url, window.location.href);
      return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null;
    } catch (e) { return null; }
  }

  // The backend's signed, expiring file links (backend/services/enlaces.py).
  var ARCHIVO_FIRMADO = /\/api\/v1\/archivos\//;

  // Text with its http(s) links made clickable; never parsed as HTML.
  function conEnlaces(contenedor, texto) {
    var patron = /https?:\/\/[^\s<>"]+/g;
    var ultimo = 0;
    var m;
    while ((m = patron.exec(texto)) !== null) {
      contenedor.appendChild(document.createTextNode(texto.slice(ultimo, m.index)));
      var a = document.createElement("a");
      a.href = m[0];
      // A signed file link is hundreds of characters: never print it raw.
      a.textContent = ARCHIVO_FIRMADO.test(m[0]) ? TEXTOS.enlaceDocumento : m[0];
      a.target = "_blank";
      a.rel = "noopener";
      contenedor.appendChild(a);
      ultimo = m.index + m[0].length;
    }
    contenedor.appendChild(document.createTextNode(texto.slice(ultimo)));
  }

  function adjuntoComoEnlace(adjunto) {
    // Rasa passes through what the action sent: a URL or a dict.
    if (!adjunto) { return null; }
    if (typeof adjunto === "string") { return { url: adjunto, tipo: "file", titulo: null }; }
    var carga = adjunto.payload || {};
    var url = adjunto.url || adjunto.src || carga.src || carga.url || (typeof carga === "string" ? carga : null);
    if (!url) { return null; }
    return { url: url, tipo: adjunto.type || "file", titulo: adjunto.title || carga.title || null };
  }

  function pintar(m, esUltimo) {
    var nodo = document.createElement("div");
    nodo.className = "mensaje " + (m.autor === "usuario" ? "usuario" : "bot");
    var quien = document.createElement("span");
    quien.className = "visualmente-oculto";
    quien.textContent = (m.autor === "usuario" ? TEXTOS.usted : TEXTOS.asistente) + " ";
    if (m.texto) {
      var texto = document.createElement("span");
      texto.className = "texto";
      conEnlaces(texto, m.texto);
      nodo.appendChild(quien);
      nodo.appendChild(texto);
      lista.appendChild(nodo);
    }
    if (m.adjunto) {
      var adj = adjuntoComoEnlace(m.adjunto);
      var url = adj && urlSegura(adj.url);
      if (url && adj.tipo === "image") {
        var img = document.createElement("img");
        img.src = url;
        img.alt = adj.titulo || TEXTOS.imagen;
        img.className = "imagen-bot";
        lista.appendChild(img);
      } else if (url) {
        var a = document.createElement("a");
        a.className = "adjunto";
        a.href = url;
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = adj.titulo || TEXTOS.documento;
        lista.appendChild(a);
      }
    }
    if (m.botones && m.botones.length) {
      var grupo = document.createElement("div");
      grupo.className = "opciones";
      grupo.setAttribute("role", "group");
      grupo.setAttribute("aria-label", TEXTOS.opciones);
      m.botones.forEach(function (b) {
        var boton = document.createElement("button");
        boton.type = "button";
        boton.className = "opcion";
        boton.textContent = b.title;
        boton.disabled = !esUltimo;
        boton.addEventListener("click", function () { enviar(b.payload || b.title, b.title); });
        grupo.appendChild(boton);
      });
      lista.appendChild(grupo);
    }
  }

  function repintar() {
    lista.textContent = "";
    var mensajes = estadoChat.mensajes;
    mensajes.forEach(function (m, i) { pintar(m, i === mensajes.length - 1); });
    bajar();
  }

  function bajar() { lista.scrollTop = lista.scrollHeight; }

  function agregar(m) {
    // Options of earlier messages no longer apply once something new arrives.
    Array.prototype.forEach.call(lista.querySelectorAll(".opcion"), function (b) { b.disabled = true; });
    estadoChat.mensajes.push(m);
    guardar();
    pintar(m, true);
    bajar();
  }

  // -- typing indicator and notices ------------------------------------------

  var temporizador = null;
  function mostrarEscribiendo(si) {
    escribiendo.hidden = !si;
    window.clearTimeout(temporizador);
    if (si) {
      temporizador = window.setTimeout(function () {
        escribiendo.hidden = true;
        mostrarAviso(TEXTOS.sinRespuesta);
      }, ESPERA_MAXIMA_MS);
    }
  }

  function mostrarAviso(texto) {
    if (aviso.textContent !== texto) { aviso.textContent = texto; }
    aviso.hidden = !texto;
  }

  function ponerEstado(clave) {
    estado.dataset.estado = clave === "sinConexion" ? "sin-conexion" : clave;
    estado.textContent = TEXTOS[clave];
  }

  // -- socket.io ---------------------------------------------------------------

  var rasaUrl = (document.querySelector('meta[name="rasa-url"]') || {}).content || "http://localhost:5005";
  var socket = null;
  var sesionLista = false;
  // True from the moment the page opens a connection on purpose (load,
  // "Nueva conversación") until session_confirm or a connection error.
  var conectandoAProposito = true;
  var pendientes = [];

  function conectar() {
    if (typeof window.io !== "function") {
      ponerEstado("sinConexion");
      mostrarAviso(TEXTOS.sinLibreria);
      return;
    }
    // WebSocket only: Rasa's socket.io server has its CORS handling switched
    // off, so long-polling from this page's origin would be refused.
    socket = window.io(rasaUrl, {
      path: "/socket.io",
      transports: ["websocket"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 8000
    });
    socket.on("connect", function () {
      sesionLista = false;
      socket.emit("session_request", { session_id: estadoChat.sessionId });
    });
    socket.on("session_confirm", function (id) {
      var sid = typeof id === "string" ? id : (id && id.session_id);
      // The server may replace an id it does not accept with a fresh one.
      if (sid && sid !== estadoChat.sessionId) { estadoChat.sessionId = sid; guardar(); }
      sesionLista = true;
      conectandoAProposito = false;
      ponerEstado("conectado");
      mostrarAviso("");
      var enCola = pendientes.splice(0);
      enCola.forEach(function (mensaje) {
        socket.emit("user_uttered", { message: mensaje, session_id: estadoChat.sessionId });
      });
      if (enCola.length) { mostrarEscribiendo(true); }
    });
    socket.on("connect_error", function () {
      sesionLista = false;
      conectandoAProposito = false;
      ponerEstado("sinConexion");
      mostrarEscribiendo(false);
      mostrarAviso(TEXTOS.inalcanzable + (pendientes.length ? " " + TEXTOS.enEspera : ""));
    });
    socket.on("disconnect", function () {
      sesionLista = false;
      mostrarEscribiendo(false);
      if (conectandoAProposito) {
        // "Nueva conversación": this disconnection is ours, not a failure.
        ponerEstado("conectando");
        return;
      }
      ponerEstado("sinConexion");
      mostrarAviso(TEXTOS.perdida);
    });
    socket.on("bot_uttered", function (datos) {
      if (!datos) { return; }
      mostrarEscribiendo(false);
      mostrarAviso("");
      var botones = datos.quick_replies || datos.buttons || null;
      agregar({
        autor: "bot",
        texto: typeof datos.text === "string" ? datos.text : "",
        botones: botones && botones.length ? botones.map(function (b) { return { title: b.title, payload: b.payload }; }) : null,
        adjunto: datos.attachment || null
      });
    });
  }

  function enviar(payload, visible) {
    var enCamino = socket && (socket.connected || conectandoAProposito);
    if (!enCamino) {
      mostrarAviso(TEXTOS.noEnviado);
      return false;
    }
    agregar({ autor: "usuario", texto: visible || payload });
    if (sesionLista && socket.connected) {
      socket.emit("user_uttered", { message: payload, session_id: estadoChat.sessionId });
      mostrarEscribiendo(true);
    } else {
      // Sent with the session confirmed next (see session_confirm).
      pendientes.push(payload);
    }
    return true;
  }

  formulario.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var texto = entrada.value.trim();
    if (!texto) { entrada.focus(); return; }
    if (enviar(texto)) { entrada.value = ""; }
    entrada.focus();
  });

  botonNueva.addEventListener("click", function () {
    estadoChat = { sessionId: nuevoId(), mensajes: [] };
    agregar({ autor: "bot", texto: TEXTOS.bienvenida, botones: BOTONES_INICIALES });
    // Messages typed before the new session is confirmed belong to it.
    pendientes = [];
    if (socket) {
      // A fresh socket leaves the old session's room behind.
      sesionLista = false;
      conectandoAProposito = true;
      ponerEstado("conectando");
      socket.disconnect();
      socket.connect();
    }
    repintar();
    entrada.focus();
  });

  if (!estadoChat.mensajes.length) {
    estadoChat.mensajes.push({ autor: "bot", texto: TEXTOS.bienvenida, botones: BOTONES_INICIALES });
    guardar();
  }
  repintar();
  ponerEstado("conectando");
  conectar();
})();
