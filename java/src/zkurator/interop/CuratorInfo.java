package zkurator.interop;

import java.io.InputStream;
import java.net.URL;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import org.apache.curator.framework.CuratorFramework;

/** The Curator actually loaded: its version and where it came from. */
final class CuratorInfo {
    private CuratorInfo() {
    }

    /** Version of the curator-framework jar actually loaded. */
    static String version() {
        Package p = CuratorFramework.class.getPackage();
        if (p != null && p.getImplementationVersion() != null) {
            return p.getImplementationVersion();
        }
        Path jar = null;
        try {
            URL location = CuratorFramework.class.getProtectionDomain().getCodeSource().getLocation();
            jar = Paths.get(location.toURI()).toRealPath();
            try (JarFile jf = new JarFile(jar.toFile())) {
                ZipEntry e = jf.getEntry("META-INF/maven/org.apache.curator/curator-framework/pom.properties");
                if (e != null) {
                    try (InputStream in = jf.getInputStream(e)) {
                        Properties props = new Properties();
                        props.load(in);
                        String v = props.getProperty("version");
                        if (v != null) {
                            return v;
                        }
                    }
                }
            }
        } catch (Exception ignored) {
            // fall through to the file name
        }
        if (jar != null) {
            String name = jar.getFileName().toString();
            if (name.startsWith("curator-framework-") && name.endsWith(".jar")) {
                return name.substring("curator-framework-".length(), name.length() - 4);
            }
        }
        return "unknown";
    }

    /** Where curator-framework was loaded from. */
    static String location() {
        try {
            return String.valueOf(CuratorFramework.class.getProtectionDomain().getCodeSource().getLocation());
        } catch (Exception e) {
            return "unknown";
        }
    }
}
