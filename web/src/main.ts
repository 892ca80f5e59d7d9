import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-overlay.css'
import 'element-plus/theme-chalk/el-message-box.css'
import 'element-plus/theme-chalk/el-button.css'
import './styles.css'
import App from './App.vue'
import { buildRouter } from './router'

const app = createApp(App)
app.use(createPinia())
app.use(buildRouter())
app.mount('#app')
