// Starts DynamoDB Local listening on one address only: 127.0.0.1, or the address in the
// system property `bind` (Docker's bridge, for containers the run made itself). DynamoDB
// Local has no bind-address option and listens on every interface; its Jetty connector is
// given the host before the server starts. Run as a single-file source program (Java 11+) with the
// DynamoDB Local jar and its libraries on the classpath; arguments are DynamoDB Local's.

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;
import software.amazon.dynamodb.services.local.main.ServerRunner;

public class DynamoDBLocalLoopback {
    @SuppressWarnings("deprecation")
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        String host = System.getProperty("bind", "127.0.0.1");
        for (Connector connector : jetty.getConnectors()) {
            ((ServerConnector) connector).setHost(host);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host);
        proxy.join();
    }
}
